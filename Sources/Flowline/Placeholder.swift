// Placeholder until the Flowline target lands.
