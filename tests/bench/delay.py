"""A TCP proxy on 127.0.0.1 that delays every byte by ONE_WAY_MS in each
direction, so that a loopback connection has a round trip of twice that:
each piece read is written ONE_WAY_MS after it arrived, in order, with
no limit on throughput (a latency line, as netem's delay).

usage: delay.py PORTFILE TARGET_PORT ONE_WAY_MS
"""
import asyncio
import socket
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def later():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.ensure_future(later())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
        writer.close()


async def main():
    port_file, target, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000

    async def client(creader, cwriter):
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cwriter.close()
            return
        for w in (cwriter, swriter):
            w.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(pipe(creader, swriter, delay),
                             pipe(sreader, cwriter, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


asyncio.run(main())
