"""The Bắc Kạn demo catalogue: ``seed_demo()`` in ``shop.seed.demo``, pictures in ``shop.seed.images``."""
