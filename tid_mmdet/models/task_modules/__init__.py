from .significance import *  # noqa: F401,F403
