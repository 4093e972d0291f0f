"""The setup wizard: a new PBX from site to tariff in one guided path."""
