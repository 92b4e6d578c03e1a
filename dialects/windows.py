"""reduce_window: sum / max / min over sliding windows."""
