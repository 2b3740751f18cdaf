"""Password hashing (SPEC C4).

Argon2id with m=32 MiB, t=2, p=1: above OWASP's minimum (m=19 MiB, t=2, p=1);
the verify time on our 2-core reference machine is in the README. More memory
would slow every sign-in and the equal-time path for unknown users, and the
online guesser is already stopped by the lockout (SPEC L6). Django's default Argon2 hasher uses p=8, which on a
2-core server buys nothing but contention; one lane and more passes keep the
cost on memory, where a GPU attacker pays."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class MolarArgon2Hasher(Argon2PasswordHasher):
    algorithm = "argon2"  # same format as Django's, so its verifier reads ours
    time_cost = 2
    memory_cost = 32768  # KiB
    parallelism = 1
