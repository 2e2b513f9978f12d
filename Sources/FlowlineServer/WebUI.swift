/// The web UI (SPEC §10): one page, its script and style inline, fetching nothing but the daemon's own /api.
enum WebUI {
    static func login(message: String?) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flowline: sign in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>body{font:15px system-ui,sans-serif;background:#f6f7f9;color:#1d2330;display:flex;justify-content:center;
        padding-top:12vh}form{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:24px 28px;width:320px}
        h1{font-size:18px;margin:0 0 16px}input{width:100%;box-sizing:border-box;padding:8px;margin:6px 0 14px;
        border:1px solid #c4cad3;border-radius:4px;font:inherit}button{padding:8px 16px;border:0;border-radius:4px;
        background:#2d6cdf;color:#fff;font:inherit;cursor:pointer}.err{color:#b3261e;margin:0 0 12px}</style></head>
        <body><form method="post" action="/login"><h1>Flowline</h1>\(message.map { "<p class=\"err\">\(escape($0))</p>" } ?? "")
        <label for="token">Token</label><input id="token" name="token" type="password" autocomplete="current-password" autofocus>
        <button type="submit">Sign in</button></form></body></html>
        """
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
