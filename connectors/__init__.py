"""Wire protocols and stores, one subpackage each: Modbus TCP and OPC UA southbound;
MQTT, InfluxDB and the embedded SQLite store northbound; `common` for what they share."""
