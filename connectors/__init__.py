"""Wire protocols: Modbus and OPC UA southbound; MQTT, InfluxDB and SQLite northbound."""
