package io.github.mispcorrelator.correlate;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;

import io.github.mispcorrelator.alert.Alert;
import io.github.mispcorrelator.misp.AttributeMatcher;
import io.github.mispcorrelator.misp.MispAttribute;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * An indicator from an alert that MISP knows: one per matching attribute. Scoring rules read its MISP context and
 * set its severity (a Wazuh level, 0–15), labels and suppression; every rule that changes it is recorded, so an
 * auditor can see why it was called a hit.
 */
public final class Hit {
    private static final Map<String, Pattern> TAG_PATTERNS = new ConcurrentHashMap<>();
    private final Alert alert;
    private final Indicator indicator;
    private final MispAttribute attribute;
    private int severity;
    private boolean suppressed;
    private final Set<String> labels = new LinkedHashSet<>();
    private final List<String> decidedBy = new ArrayList<>();
    private final List<String> decidedByIds = new ArrayList<>();
    private String currentRule;
    private String currentRuleId;
    private Instant lookedUpAt;
    private String allowList = "";
    private Predicate<String> inAllowList = name -> false;
    private PastSighting pastSighting;

    public Hit(Alert alert, Indicator indicator, MispAttribute attribute) {
        this.alert = alert;
        this.indicator = indicator;
        this.attribute = attribute;
    }

    /** When MISP's answer behind this hit was obtained. */
    public Instant lookedUpAt() {
        return lookedUpAt;
    }

    public Hit lookedUpAt(Instant at) {
        this.lookedUpAt = at;
        return this;
    }

    /**
     * What the observation index knew when MISP learned the value later (a look-back hit), per agent.
     *
     * @param agentAlerts alerts of this agent that carried the value, within the look-back window
     * @param agents      agents that saw the value, all of them
     * @param alerts      alerts that carried the value, on all agents
     * @param foundAt     when the look-back found it
     */
    public record PastSighting(Instant firstSeen, Instant lastSeen, long agentAlerts, String firstAlertId,
                               String lastAlertId, int agents, long alerts, Instant foundAt) {
    }

    /** Marks this hit as found by the look-back, from the past sightings of its value. */
    public Hit pastSighting(PastSighting sighting) {
        this.pastSighting = sighting;
        return this;
    }

    /** The past sightings behind a look-back hit; null for a hit found as its alert happened. */
    public PastSighting pastSighting() {
        return pastSighting;
    }

    // ---- read by rules ---------------------------------------------------------------------------------------

    /** Whether the look-back found this hit: the value was seen before MISP knew it (see {@link #getSightingAgeDays}). */
    public boolean isLookBack() {
        return pastSighting != null;
    }

    /**
     * How long ago the agent last saw the value, in whole days, when the look-back found it (0 for a hit found as its
     * alert happened): a contact 60 days ago matters less than one this morning.
     */
    public long getSightingAgeDays() {
        if (pastSighting == null) {
            return 0;
        }
        return Math.max(0, Duration.between(pastSighting.lastSeen(), pastSighting.foundAt()).toDays());
    }

    public Alert getAlert() {
        return alert;
    }

    public Indicator indicator() {
        return indicator;
    }

    public MispAttribute attribute() {
        return attribute;
    }

    /** {@code md5}, {@code sha1}, {@code sha256}, {@code imphash}, {@code ip}, {@code domain}, {@code url}. */
    public String getType() {
        return indicator.type().id();
    }

    public String getValue() {
        return indicator.value();
    }

    public String getField() {
        return indicator.field();
    }

    /** The {@code @id} of the extraction rule that found the value ({@code fallback.field-names} for the fallback). */
    public String getExtractedBy() {
        return indicator.ruleId();
    }

    /**
     * Whether the value matched through a known-bad parent domain ({@code misp.match_parent_domains}): the alert
     * named {@code cdn.evil.example}, MISP knows {@code evil.example}.
     */
    public boolean isParentDomainMatch() {
        if (indicator.type() != IndicatorType.DOMAIN) {
            return false;
        }
        String v = indicator.value();
        for (String key : AttributeMatcher.keys(attribute)) {
            if (key.equals("domain:" + v)) {
                return false;
            }
        }
        return true;
    }

    /** The MISP attribute type, e.g. {@code ip-dst|port}. */
    public String getMispType() {
        return attribute.type();
    }

    public String getCategory() {
        return attribute.category();
    }

    /** 1 high, 2 medium, 3 low, 4 undefined; 0 when unknown. */
    public int getThreatLevel() {
        return attribute.threatLevel();
    }

    public boolean isToIds() {
        return attribute.toIds();
    }

    public List<String> getTags() {
        return attribute.tags();
    }

    /** Whether any tag matches the regular expression, ignoring case ({@code "tlp:(red|amber)"}). */
    public boolean hasTag(String regex) {
        Pattern p = TAG_PATTERNS.computeIfAbsent(regex, r -> Pattern.compile(r, Pattern.CASE_INSENSITIVE));
        return attribute.tags().stream().anyMatch(t -> p.matcher(t).matches());
    }

    /**
     * How old the intelligence was when the alert happened: days from the attribute's last change in MISP to the
     * alert's timestamp (to now for an alert without one); -1 when MISP gave no timestamp. Measured at the alert,
     * not at evaluation, so a retro-hunt of old alerts and a test case give the same answer every day.
     */
    public long getAgeDays() {
        if (attribute.timestamp() <= 0) {
            return -1;
        }
        long at = alert.getEpochSecond().orElse(Instant.now().getEpochSecond());
        return Math.max(0, (at - attribute.timestamp()) / 86_400);
    }

    /** Whether the value is on any allow-list kept next to the DRL ({@code allowlists/*.txt}). */
    public boolean isAllowListed() {
        return !allowList.isEmpty();
    }

    /** The allow-list holding the value ({@code "update-servers"}), or {@code ""}. */
    public String getAllowList() {
        return allowList;
    }

    /** Whether the value is on the named allow-list ({@code allowlists/NAME.txt}). */
    public boolean allowListedIn(String name) {
        return inAllowList.test(name);
    }

    /** Set by the engine before scoring: which allow-list, if any, holds this value. */
    public void allowListMatch(String firstList, Predicate<String> inList) {
        this.allowList = firstList == null ? "" : firstList;
        this.inAllowList = inList;
    }

    public int getSeverity() {
        return severity;
    }

    public boolean isSuppressed() {
        return suppressed;
    }

    public Set<String> getLabels() {
        return labels;
    }

    /** The rules that set this hit's severity, labels or suppression, in the order they fired. */
    public List<String> getDecidedBy() {
        return decidedBy;
    }

    // ---- changed by rules ------------------------------------------------------------------------------------

    /** Sets the severity (clamped to Wazuh's 0–15). */
    public void setSeverity(int level) {
        this.severity = Math.max(0, Math.min(15, level));
        record();
    }

    /** Raises the severity to at least {@code level}; never lowers it. */
    public void raise(int level) {
        if (level > severity) {
            setSeverity(level);
        } else {
            record();
        }
    }

    /** Lowers the severity by {@code by} levels (not below 0). */
    public void lower(int by) {
        setSeverity(severity - by);
    }

    /** Keeps the hit in the audit table but sends no event to Wazuh. */
    public void suppress() {
        this.suppressed = true;
        record();
    }

    public void label(String label) {
        labels.add(label.toLowerCase(Locale.ROOT));
        record();
    }

    /** The stable {@code @id}s of {@link #getDecidedBy()}, in the same order. */
    public List<String> getDecidedByIds() {
        return decidedByIds;
    }

    /** Called by the engine before a rule's consequence runs, so the change is attributed to that rule. */
    public void firing(String ruleName) {
        firing(ruleName, ruleName);
    }

    /** As {@link #firing(String)}, with the rule's stable {@code @id}. */
    public void firing(String ruleName, String ruleId) {
        this.currentRule = ruleName;
        this.currentRuleId = ruleId;
    }

    private void record() {
        if (currentRule != null && !decidedBy.contains(currentRule)) {
            decidedBy.add(currentRule);
            decidedByIds.add(currentRuleId);
        }
    }

    @Override
    public String toString() {
        return "Hit[" + indicator.key() + " → " + attribute.type() + " " + attribute.uuid() + ", severity " + severity + "]";
    }
}
