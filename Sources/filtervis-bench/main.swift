print("filtervis-bench: not yet written")
