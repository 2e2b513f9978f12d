// Placeholder until the FlowlineCore target lands.
