print("flowlined: not built yet")
