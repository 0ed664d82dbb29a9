#!/usr/bin/python3
"""aiopika-consume -- the yardstick for warrend's consume path.

Consumes <service>.<event> the way the seed's consumer pattern does
(connect_robust, a durable queue bound with the contract's routing key,
basic.qos prefetch, json.loads of each body, message.process() to ack), with
the queue declared exactly as warrend declares it: dead-lettered through
<exchange>.dlx into <service>.<event>.dead.

It prints "ready" once it consumes, then, after --count deliveries, one line
of figures in the same form as warren-consume: the rate from the first
delivery to the last, and the latency from the body's sent_ns (CLOCK_REALTIME
nanoseconds, written by raw-publish -T) to the moment the message arrived.

With --declare-only it only declares the queues, so that raw-publish -C can
consume one made just like this one.
"""

import argparse
import asyncio
import json
import sys
import time

import aio_pika

TIMEOUT = 60  # seconds without a delivery before giving up


def options():
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-u", "--url",
                   default="amqp://guest:guest@127.0.0.1:5672/%2f")
    p.add_argument("-x", "--exchange", default="events")
    p.add_argument("-s", "--service", default="bench")
    p.add_argument("-e", "--event", default="BenchEvent")
    p.add_argument("-k", "--routing-key", default="bench.event")
    p.add_argument("-n", "--count", type=int, default=100000)
    p.add_argument("-p", "--prefetch", type=int, default=64)
    p.add_argument("-D", "--declare-only", action="store_true",
                   help="declare the exchanges and queues, then exit")
    return p.parse_args()


async def declare(channel, opt):
    """Declare the exchange, the dead-letter pair and the bound queue."""
    name = f"{opt.service}.{opt.event}"
    topic = aio_pika.ExchangeType.TOPIC
    exchange = await channel.declare_exchange(opt.exchange, topic,
                                              durable=True)
    dlx = await channel.declare_exchange(f"{opt.exchange}.dlx", topic,
                                         durable=True)
    dead = await channel.declare_queue(f"{name}.dead", durable=True)
    await dead.bind(dlx, routing_key=f"{name}.dead")
    queue = await channel.declare_queue(name, durable=True, arguments={
        "x-dead-letter-exchange": f"{opt.exchange}.dlx",
        "x-dead-letter-routing-key": f"{name}.dead",
    })
    await queue.bind(exchange, routing_key=opt.routing_key)
    return queue


def percentile(sorted_ns, p):
    """The p-th percentile in microseconds, by nearest rank."""
    if not sorted_ns:
        return 0.0
    rank = (len(sorted_ns) * p + 99) // 100
    return sorted_ns[max(rank, 1) - 1] / 1e3


class Tally:
    """What the consumer saw."""

    def __init__(self, count):
        self.count = count
        self.received = 0
        self.redelivered = 0
        self.untimed = 0
        self.failures = 0
        self.latencies = []
        self.first = self.last = 0.0
        self.done = asyncio.Event()

    def report(self):
        """Print the figures on one line of key=value pairs."""
        lat = sorted(self.latencies)
        secs = self.last - self.first
        rate = self.received / secs if secs > 0 else 0
        print(f"events={self.received} seconds={secs:.3f} "
              f"events_per_s={rate:.0f} p50_us={percentile(lat, 50):.0f} "
              f"p99_us={percentile(lat, 99):.0f} "
              f"max_us={percentile(lat, 100):.0f} untimed={self.untimed} "
              f"redelivered={self.redelivered} failures={self.failures}",
              flush=True)


async def consume(opt):
    """Consume count messages, acking each, and report."""
    tally = Tally(opt.count)
    connection = await aio_pika.connect_robust(opt.url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=opt.prefetch)
    queue = await declare(channel, opt)
    if opt.declare_only:
        await connection.close()
        return 0

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage):
        now = time.time_ns()
        async with message.process():
            try:
                sent = json.loads(message.body.decode()).get("sent_ns")
            except ValueError:
                tally.failures += 1
                sent = None
        tally.last = time.monotonic()
        if tally.received == 0:
            tally.first = tally.last
        tally.received += 1
        tally.redelivered += bool(message.redelivered)
        if isinstance(sent, int):
            tally.latencies.append(max(now - sent, 0))
        else:
            tally.untimed += 1
        if tally.received >= tally.count:
            tally.done.set()

    tag = await queue.consume(on_message)
    print("ready", flush=True)
    seen = -1
    while not tally.done.is_set():
        if tally.received == seen:
            sys.exit(f"aiopika-consume: nothing in {TIMEOUT} seconds "
                     f"({tally.received} of {tally.count} delivered)")
        seen = tally.received
        try:
            await asyncio.wait_for(tally.done.wait(), TIMEOUT)
        except asyncio.TimeoutError:
            pass
    # Stop deliveries before closing, so no ack is cut short; what came
    # after the count goes back to the queue.
    await queue.cancel(tag)
    await connection.close()
    tally.report()
    return 1 if tally.failures or not tally.latencies else 0


def main():
    """Run the consumer."""
    return asyncio.run(consume(options()))


if __name__ == "__main__":
    sys.exit(main())
