// The value type of inputs, results and records, usable with `import Flowline` alone: a handler's author should
// not need to know which module of ours defines it.
@_exported import enum FlowlineProtocol.JSON
@_exported import struct FlowlineProtocol.JSONObject
