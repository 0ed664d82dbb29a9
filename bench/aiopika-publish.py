#!/usr/bin/python3
"""aiopika-publish -- the seed's publisher, the yardstick for warrend's
publish path.

Publishes the way the seed's RabbitMQBroker does (connect_robust, a channel
with aio-pika's default publisher confirms, a durable topic exchange, one
Message per event with delivery_mode PERSISTENT and content_type
application/json, awaited exchange.publish), with --concurrency publishes in
flight at a time, as an application serving that many requests would.

The body is the same 300-byte event the other bench programs send, built
with json.dumps (the seed's model_dump_json is Pydantic's; json.dumps is no
slower, so the figure is if anything the seed's best case).

It prints one line in the same form as raw-publish:
events=N seconds=S events_per_s=R nacks=0 returns=0
"""

import argparse
import asyncio
import json
import sys
import time

import aio_pika

BODY_LEN = 300
FILL = "abcdefghijklmnopqrstuvwxyz0123456789"


def options():
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-u", "--url",
                   default="amqp://guest:guest@127.0.0.1:5672/%2f")
    p.add_argument("-x", "--exchange", default="events")
    p.add_argument("-k", "--routing-key", default="bench.event")
    p.add_argument("-n", "--count", type=int, default=20000)
    p.add_argument("-c", "--concurrency", type=int, default=256)
    return p.parse_args()


def body(n):
    """Event n as JSON, padded to BODY_LEN bytes like bench.h's bench_body."""
    event = {"resource_id": "r-%06d" % n, "resource_name": "",
             "accessed_at": "2026-11-27T05:18:40Z", "user_agent": "bench/1.0"}
    pad = BODY_LEN - len(json.dumps(event, separators=(",", ":")))
    event["resource_name"] = (FILL * (pad // len(FILL) + 1))[:max(pad, 0)]
    return json.dumps(event, separators=(",", ":"))


async def publish_all(opt):
    """Publish count events, concurrency at a time; return seconds taken."""
    connection = await aio_pika.connect_robust(opt.url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        opt.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    next_n = 0

    async def worker():
        nonlocal next_n
        while next_n < opt.count:
            n = next_n
            next_n += 1
            message = aio_pika.Message(
                body=body(n).encode(),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type="application/json",
            )
            await exchange.publish(message, routing_key=opt.routing_key)

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(opt.concurrency)))
    secs = time.monotonic() - start
    await connection.close()
    return secs


def main():
    """Run the publisher and print its figures."""
    opt = options()
    secs = asyncio.run(publish_all(opt))
    print("events=%d seconds=%.3f events_per_s=%.0f nacks=0 returns=0"
          % (opt.count, secs, opt.count / secs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
