"""Password hashing (Argon2id) and the password policy.

Every path that sets a password (CLI, API, web) calls `password_problems`
first, then `hash_password`.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 256  # bounds the work of hashing and of zxcvbn
MIN_SCORE = 3
# zxcvbn refuses longer input (ValueError) and slows quadratically past it:
# a longer password is judged by its first 72 characters.
ZXCVBN_MAX_LENGTH = 72

_hashers = {}
_hashing_threads = {}
_hashing_threads_lock = threading.Lock()


def hasher():
    """The Argon2id hasher for the app's current settings (cached per settings)."""
    config = current_app.config
    params = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])
    if params not in _hashers:
        _hashers[params] = PasswordHasher(
            time_cost=params[0], memory_cost=params[1], parallelism=params[2], type=Type.ID
        )
    return _hashers[params]


def hashing_threads():
    """This process's Argon2id threads: `HASH_CONCURRENCY` of them, made on first use.

    Keyed by process id too: threads do not survive a fork.
    """
    key = (os.getpid(), current_app.config["HASH_CONCURRENCY"])
    with _hashing_threads_lock:
        if key not in _hashing_threads:
            _hashing_threads[key] = ThreadPoolExecutor(max_workers=key[1],
                                                       thread_name_prefix="argon2")
        return _hashing_threads[key]


def bounded(work, *args):
    """Run one Argon2id computation on a hashing thread and wait for its result.

    Each hash takes `ARGON2_MEMORY_KIB` of memory and a whole core for a
    while: with many sign-ins at once, more hashes than cores only thrash,
    and glibc would keep that memory in the malloc arena of every request
    thread that ever hashed. A few dedicated threads bound both; the other
    requests queue here, in arrival order.
    """
    return hashing_threads().submit(work, *args).result()


def hash_password(password):
    """An Argon2id hash of `password` with the current settings."""
    return bounded(hasher().hash, password)


def verify_password(password_hash, password):
    """Whether `password` matches `password_hash`; never raises for a bad hash."""
    try:
        return bounded(hasher().verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """Whether the hash was made with other settings than the current ones."""
    return hasher().check_needs_rehash(password_hash)


def burn_hash_time(password):
    """Spend the same work as a real verification, for unknown users.

    Without it, "no such user" answers faster than "wrong password" and
    usernames could be told apart by timing.
    """
    dummy = current_app.extensions.setdefault("atm_dummy_hash", {})
    params = id(hasher())
    if params not in dummy:
        dummy[params] = hash_password("not-a-real-password: timing equaliser")
    verify_password(dummy[params], password)


def password_problems(password, username="", city=None):
    """Why `password` is refused by the policy, as a list of sentences (empty: fine)."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    # Imported here: its word lists are large, every serving process would
    # hold them, and only password changes need them.
    from zxcvbn import zxcvbn

    user_inputs = [value for value in (username, city) if value]
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=user_inputs)
    if result["score"] >= MIN_SCORE:
        return []
    feedback = result.get("feedback") or {}
    reason = feedback.get("warning") or "This password is too easy to guess."
    # zxcvbn's own warning is silent about user inputs; say so, or "why" is lost.
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reason = "It is built on your username or city, which is easy to guess."
    hints = " ".join(feedback.get("suggestions") or [])
    return [f"{reason} {hints}".strip()]
