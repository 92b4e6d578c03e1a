"""irjax.scipy.stats."""
