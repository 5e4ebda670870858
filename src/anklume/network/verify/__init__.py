"""``anklume network verify``: prove the policy with real packets."""
