// Placeholder until the FlowlineJournal target lands.
