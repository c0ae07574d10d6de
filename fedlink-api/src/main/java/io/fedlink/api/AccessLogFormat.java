package io.fedlink.api;

/**
 * How a {@link TunnelServer} writes its access log (one line per ended tunnel) and its refusal lines; see
 * {@link TunnelServerConfig#accessLogFormat()}.
 */
public enum AccessLogFormat {
    /**
     * {@code key=value} text: {@code client=/10.0.0.7:51234 sni=9999.fate.org target=10.0.0.3:6651 up=5120
     * down=20480 duration_ms=3051 reason=COMPLETED} (the default).
     */
    TEXT,
    /**
     * One JSON object per line, for log shippers: a tunnel is {@code {"time":"2026-12-05T03:28:03.123Z",
     * "event":"tunnel","id":17,"client":"10.0.0.7:51234","server_name":"9999.fate.org","route":"*.fate.org",
     * "target":"10.0.0.3:6651","duration_ms":3051,"bytes_from_client":5120,"bytes_to_client":20480,
     * "reason":"completed"}}; a refusal is {@code {"time":...,"event":"refused","client":...,"server_name":...,
     * "reason":"unknown_server_name","detail":"no route"}}. {@code time} is when the tunnel ended or the connection
     * was refused, ISO-8601 in UTC with milliseconds; {@code duration_ms} counts from the accept. Reasons are the enum
     * names in lower case, absent values {@code null}; every string is escaped (the line is ASCII only), so nothing a
     * client sends can break a line or forge a field.
     */
    JSON
}
