print("flowline: not built yet")
