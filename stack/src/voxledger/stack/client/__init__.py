"""The API client commands of `voxledger`: transcribe, watch, jobs, search, export, against any voxledger URL."""
