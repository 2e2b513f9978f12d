// Placeholder until test support lands.
