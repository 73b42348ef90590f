"""The simulated cameras' sound: a signal that tells the time, encoded once to AAC."""
