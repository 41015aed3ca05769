"""alliance-sim: Monte Carlo forecasts of alliance durability from a batched Mesa model."""
