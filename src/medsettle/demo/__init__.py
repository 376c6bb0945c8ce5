"""The demo nation: `nation` generates it from a seed, `rules` gives every province its audit rules, `seeding` writes
both into a store, `day` plays a scripted day of calls against a running server (for `medsettle report`)."""
