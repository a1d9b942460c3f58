"""Pure values shared by every component: amounts, canonical JSON, clocks, errors."""
