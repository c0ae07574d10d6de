package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The agent wire format: framing, the commands each side may send, and hostile bytes. */
class AgentProtocolTest {

    static String read(String bytes) throws IOException {
        return AgentProtocol.readLine(new ByteArrayInputStream(bytes.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void linesAreReadOneAtATimeAndEndOfStreamBeforeALineIsNull() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream("AGENT 1\nPING\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("AGENT 1", AgentProtocol.readLine(in));
        assertEquals("PING", AgentProtocol.readLine(in));
        assertNull(AgentProtocol.readLine(in));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PING", "AGENT 1\r", "A\u0000B", "caf\u00e9", "x\t"})
    void cutOrNonAsciiLinesAreRefused(String bytes) {
        // "PING" has no newline: cut by the end of the stream; the others hold a control or non-ASCII byte
        assertThrows(AgentProtocol.ProtocolException.class, () -> read(bytes + (bytes.equals("PING") ? "" : "\n")));
    }

    @Test
    void aLineLongerThanTheLimitIsRefusedWithoutReadingOn() {
        String longLine = "TOKEN " + "a".repeat(AgentProtocol.MAX_LINE) + "\n";
        AgentProtocol.ProtocolException e = assertThrows(AgentProtocol.ProtocolException.class, () -> read(longLine));
        assertTrue(e.getMessage().contains("longer than 127 bytes"), e.getMessage());
        String exact = "NO " + "r".repeat(AgentProtocol.MAX_LINE - 4);
        assertEquals(AgentProtocol.MAX_LINE - 1, exact.length());
        assertEquals(exact, assertDoesNotThrow(exact + "\n"));
    }

    private static String assertDoesNotThrow(String bytes) {
        try {
            return read(bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest(name = "agent may send: {0}")
    @ValueSource(strings = {"AGENT 1", "AGENT 12", "PING", "TOKEN 00112233445566778899aabbccddeeff"})
    void whatAnAgentMaySend(String line) throws IOException {
        assertEquals(line.split(" ")[0], AgentProtocol.fromAgent(line).verb());
    }

    @ParameterizedTest(name = "agent may not send: [{0}]")
    @ValueSource(strings = {"", "OK 10000 4", "PONG", "NO x", "AGENT", "AGENT 0", "AGENT 01", "AGENT 1 2",
            "AGENT x", "PING now", "TOKEN", "TOKEN 00112233445566778899AABBCCDDEEFF",
            "TOKEN 00112233445566778899aabbccddeef", "TOKEN 00112233445566778899aabbccddeeff0",
            "TOKEN 00112233445566778899aabbccddeefg", "token 00112233445566778899aabbccddeeff", " PING"})
    void whatAnAgentMayNotSend(String line) {
        assertThrows(AgentProtocol.ProtocolException.class, () -> AgentProtocol.fromAgent(line));
    }

    @ParameterizedTest(name = "proxy may send: {0}")
    @CsvSource(delimiter = '|', value = {"OK 10000 4|OK", "OK party-a 1024|OK", "NO anything at all|NO", "PONG|PONG"})
    void whatTheProxyMaySend(String line, String verb) throws IOException {
        assertEquals(verb, AgentProtocol.fromProxy(line).verb());
    }

    @ParameterizedTest(name = "proxy may not send: [{0}]")
    @ValueSource(strings = {"", "OK", "OK 10000", "OK 10000 0", "OK 10000 x", "OK Party 4", "OK a b c",
            "PONG 1", "PING", "TOKEN 00112233445566778899aabbccddeeff", "AGENT 1"})
    void whatTheProxyMayNotSend(String line) {
        assertThrows(AgentProtocol.ProtocolException.class, () -> AgentProtocol.fromProxy(line));
    }

    @Test
    void tokensRoundTripAndTheDataPreambleIsMagicThenToken() throws IOException {
        byte[] token = new byte[AgentProtocol.TOKEN_BYTES];
        for (int i = 0; i < token.length; i++) {
            token[i] = (byte) (i * 17);
        }
        assertArrayEquals(token, AgentProtocol.token(AgentProtocol.hex(token)));
        byte[] pre = AgentProtocol.dataPreamble(token);
        assertEquals("FLD1", new String(pre, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(20, pre.length);
        assertTrue(pre[0] != AgentProtocol.TLS_HANDSHAKE, "data and control connections share one port");
    }

    @Test
    void writtenLinesAreBoundedAndSingle() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AgentProtocol.writeLine(out, "PONG");
        assertEquals("PONG\n", out.toString(StandardCharsets.US_ASCII));
        assertThrows(IllegalArgumentException.class, () -> AgentProtocol.writeLine(out, "a\nb"));
        assertThrows(IllegalArgumentException.class, () -> AgentProtocol.writeLine(out, "x".repeat(200)));
    }
}
