"""The shared vocabulary of voxledger's services: envelope, codec, events, commands, subjects, streams.

No IO lives here.
"""
