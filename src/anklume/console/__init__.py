"""``anklume console``: a tmux session coloured by trust level, one window per domain."""
