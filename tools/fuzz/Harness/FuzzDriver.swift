import Foundation

/// Runs a fuzz target: under libFuzzer (built with `-sanitize=fuzzer -D FUZZING`) it hands control to
/// `LLVMFuzzerRunDriver`; in a normal build it replays the files and directories named on the command line, so
/// that `swift build` keeps building the targets and a crashing input can be re-run without the sanitizer.
///
/// SwiftPM links an executable with `--defsym main=<Module>_main`, so libFuzzer's own `main` is never linked in;
/// the driver entry point (LLVM 13 and later) is how libFuzzer starts instead.
public enum FuzzDriver {
    public static func run(_ target: @escaping ([UInt8]) -> Void) -> Never {
        #if FUZZING
        unsafe Fuzzing.target = target
        var argc = CommandLine.argc
        var argv = unsafe CommandLine.unsafeArgv
        exit(
            unsafe LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                unsafe Fuzzing.target?(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
                return 0
            }
        )
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    exit(2)
                }
                target(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs without a failure")
        exit(0)
        #endif
    }

    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard unsafe FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            return [path]
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }
    }
}

#if FUZZING
/// The target libFuzzer's C callback calls; set once, before the driver starts, on the only thread.
private enum Fuzzing {
    nonisolated(unsafe) static var target: (([UInt8]) -> Void)?
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif
