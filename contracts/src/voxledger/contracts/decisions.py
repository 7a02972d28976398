"""What every Decider raises when it refuses a command: a stable code and a message for people."""


class Rejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
