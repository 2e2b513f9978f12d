// Placeholder until the FlowlineLMDB target lands.
