"""An asyncua server that registers its namespace some seconds after it starts listening.

Run as a script (``python late_namespace_server.py PORT DELAY_S``): prints ``LISTENING``
once clients can connect (the namespace array holds only the standard namespaces), then
after DELAY_S registers ``urn:oee-edge:late`` with one variable, ``s=m1.State`` (UInt16,
3), and prints ``REGISTERED``. This is what a PLC whose runtime loads its program after
the OPC UA server is up looks like to the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from asyncua import Server, ua

NAMESPACE = "urn:oee-edge:late"
STATE = f"nsu={NAMESPACE};s=m1.State"


async def main(port: int, delay_s: float) -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/late")
    async with server:
        print("LISTENING", flush=True)
        await asyncio.sleep(delay_s)
        idx = await server.register_namespace(NAMESPACE)
        await server.nodes.objects.add_variable(
            ua.NodeId("m1.State", idx), "State", ua.Variant(3, ua.VariantType.UInt16)
        )
        print("REGISTERED", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
