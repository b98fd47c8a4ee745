"""Test support that ships with Gekko: network guard, fakes, loopback servers speaking real protocols."""
