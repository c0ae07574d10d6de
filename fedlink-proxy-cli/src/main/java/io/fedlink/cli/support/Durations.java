package io.fedlink.cli.support;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses durations such as {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h} or {@code 0} for options, at most 30
 * days; {@link #check} bounds one option further.
 */
public final class Durations implements ITypeConverter<Duration> {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");
    private static final Duration MAX = Duration.ofDays(30);

    /** Creates the converter (picocli does, for {@code converter = Durations.class}). */
    public Durations() {}

    /** Parses {@code value}, refusing a malformed duration or one longer than 30 days. */
    @Override
    public Duration convert(String value) {
        Matcher m = FORMAT.matcher(value.strip());
        if (!m.matches()) {
            throw new TypeConversionException("invalid duration '" + value + "': use e.g. 500ms, 10s, 2m, 1h");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.compareTo(MAX) > 0) {
            throw new TypeConversionException("duration '" + value + "' is too long: at most 30 days (720h)");
        }
        return d;
    }

    /**
     * Refuses {@code value} of {@code option} when it is zero (unless {@code zeroAllowed}) or longer than {@code max}.
     *
     * @throws ParameterException naming the option and the allowed range
     */
    public static void check(CommandLine cl, String option, Duration value, boolean zeroAllowed, Duration max,
                      String maxText) {
        if (value.isZero() && !zeroAllowed || value.compareTo(max) > 0) {
            throw new ParameterException(cl, "invalid value for option '" + option + "': " + text(value) + " must be "
                    + (zeroAllowed ? "0 or at most " : "more than 0 and at most ") + maxText);
        }
    }

    private static String text(Duration d) {
        long ms = d.toMillis();
        return ms % 3_600_000 == 0 && ms > 0 ? ms / 3_600_000 + "h" : ms % 60_000 == 0 && ms > 0 ? ms / 60_000 + "m"
                : ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
