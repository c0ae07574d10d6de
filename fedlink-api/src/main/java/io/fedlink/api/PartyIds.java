package io.fedlink.api;

import java.util.regex.Pattern;

/**
 * FATE party ids ({@code 10000}, {@code 9999}): the one rule for what a party id may be, shared by the route table
 * reader and the CA. A party id becomes the first label of its host name ({@code 10000.fate.org}), so it is letters,
 * digits and '-', 1..63 characters.
 */
public final class PartyIds {
    /** The rule in words, for error messages. */
    public static final String RULE = "letters, digits and '-' only, 1..63 characters";
    private static final Pattern PARTY_ID = Pattern.compile("[A-Za-z0-9-]{1,63}");

    private PartyIds() {}

    /** Whether {@code id} is a valid party id. */
    public static boolean isValid(String id) {
        return id != null && PARTY_ID.matcher(id).matches();
    }
}
