"""Django's Redis cache, with one redis client per connection pool instead of one per operation.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call (~0.16 ms each here: its
constructor sets up the command callbacks), and every request pays it at least once, reading the
session. A client only wraps its pool and is safe to share between threads, so one per pool serves
every call; the pools are Django's own.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
