"""Software PLCs: one machine model served over Modbus TCP (and OPC UA)."""
