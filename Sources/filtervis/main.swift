print("filtervis: CLI not yet written")
