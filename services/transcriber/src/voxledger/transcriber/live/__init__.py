"""The live worker: holds live sessions through KV leases and transcribes their audio as it arrives."""
