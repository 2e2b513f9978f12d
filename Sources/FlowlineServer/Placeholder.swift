// Placeholder until the FlowlineServer target lands.
