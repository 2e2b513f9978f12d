// Placeholder until the FlowlineUV target lands.
