import { describe, expect, it } from "vitest";
import { dueDate, localParts, SLOT_MS, slotOf } from "../src/cadence/clock.js";
import { parseDatePhrase } from "../src/cadence/infer/dates.js";
import { rulesExtract } from "../src/cadence/infer/rules.js";
import { rulesFeedbackSummary } from "../src/cadence/summarizers/feedback.js";
import { rulesGoalSummary } from "../src/cadence/summarizers/goals.js";
import { extractSignals, rulesStateUpdates } from "../src/cadence/summarizers/state.js";

const slot = (iso: string) => slotOf(Date.parse(iso));

describe("local time and DST", () => {
  it("fires once when local time crosses the target, on the right local date", () => {
    const target = 3 * 60 + 30;
    expect(dueDate("Europe/Paris", slot("2025-01-15T02:15:00Z"), target)).toBeUndefined();
    expect(dueDate("Europe/Paris", slot("2025-01-15T02:30:00Z"), target)).toBe("2025-01-15");
    expect(dueDate("Europe/Paris", slot("2025-01-15T02:45:00Z"), target)).toBeUndefined();
    // Summer time: 03:30 in Paris is 01:30 UTC.
    expect(dueDate("Europe/Paris", slot("2025-07-01T01:30:00Z"), target)).toBe("2025-07-01");
    expect(dueDate("Asia/Kathmandu", slot("2025-01-14T21:45:00Z"), target)).toBe("2025-01-15");
  });

  it("a target inside the spring-forward gap fires at the first tick after it", () => {
    // New York, 2025-03-09: 02:00 jumps to 03:00 (07:00 UTC). A 02:30 target never happens.
    const target = 2 * 60 + 30;
    const fired = [];
    for (let s = slot("2025-03-09T05:00:00Z"); s < slot("2025-03-09T09:00:00Z"); s++) {
      const d = dueDate("America/New_York", s, target);
      if (d) fired.push([new Date(s * SLOT_MS).toISOString(), d]);
    }
    expect(fired).toEqual([["2025-03-09T07:00:00.000Z", "2025-03-09"]]);
  });

  it("a target in the repeated fall-back hour names the same local date both times", () => {
    // New York, 2025-11-02: 01:00-02:00 happens twice; job ids per (user, date) dedupe the repeat.
    const target = 60 + 30;
    const fired = new Set<string>();
    for (let s = slot("2025-11-02T04:00:00Z"); s < slot("2025-11-02T08:00:00Z"); s++) {
      const d = dueDate("America/New_York", s, target);
      if (d) fired.add(d);
    }
    expect([...fired]).toEqual(["2025-11-02"]);
    expect(localParts("America/New_York", Date.parse("2025-11-02T06:30:00Z"))).toEqual({
      date: "2025-11-02",
      minutes: 90,
    });
  });
});

describe("offline state rules (keywords, not understanding)", () => {
  it("reads mood, wins, losses, pains and focus from a realistic entry", () => {
    const s = extractSignals(
      "Long day. I'm so exhausted but I finally passed my driving test! Missed the gym though. " +
        "Still struggling with my sleep schedule lately. Tomorrow I'm focusing on the grant application.",
    );
    expect(s).toEqual({
      mood: "tired",
      recent_wins: ["I'm so exhausted but I finally passed my driving test"],
      recent_losses: ["Missed the gym though"],
      pain_points: ["my sleep schedule"],
      focus_areas: ["the grant application"],
    });
  });

  it("ignores negated moods and takes the last mood of an entry", () => {
    expect(extractSignals("I'm not happy about it.").mood).toBeUndefined();
    expect(extractSignals("I was anxious this morning, but now I feel calm.").mood).toBe("calm");
  });

  it("only entries newer than a field's last write count, per field", () => {
    const e = (id: string, text: string, seq: number) => ({
      journal_id: id,
      text,
      at: "",
      recorded_at: "",
      seq,
    });
    const cur = { data: { mood: "calm", recent_wins: ["Old win"] }, fv: { mood: 500, recent_wins: 100 } };
    const updates = rulesStateUpdates(cur, [
      e("a", "I'm feeling sad. I won the raffle.", 300),
      e("b", "Nothing.", 400),
    ]);
    // The mood was edited (seq 500) after entry a (300): it stays. The win is newer than the list.
    expect(updates).toEqual([{ field: "recent_wins", value: ["I won the raffle", "Old win"], seq: 300 }]);
  });
});

describe("offline goal and feedback rules", () => {
  it("appends one segment per run and keeps the newest when too long", () => {
    const entries = [
      { progress_id: "a", at: "2025-01-01T10:00:00Z", note: "Started", percent: 5 },
      { progress_id: "b", at: "2025-01-08T10:00:00Z", note: "Chapter 1 done", percent: 20 },
    ];
    const s1 = rulesGoalSummary(undefined, entries);
    expect(s1).toBe("2025-01-01 to 2025-01-08: 2 updates, 5% to 20%; latest: Chapter 1 done / Started");
    const s2 = rulesGoalSummary(s1, [{ progress_id: "c", at: "2025-02-01T10:00:00Z", note: "Half way" }]);
    expect(s2).toBe(`${s1} | 2025-02-01: 1 update; latest: Half way`);
    const long = rulesGoalSummary("x".repeat(990), [
      { progress_id: "d", at: "2025-03-01T00:00:00Z", note: "Done" },
    ]);
    expect(long).toBe("2025-03-01: 1 update; latest: Done");
  });

  it("aggregates tags by rating and sorts comments newest first", () => {
    const f = (rating: number, timestamp: string, tags?: string[], comments?: string) => ({
      rating,
      timestamp,
      ...(tags ? { tags } : {}),
      ...(comments ? { comments } : {}),
    });
    const s = rulesFeedbackSummary([
      f(5, "2025-01-01T00:00:00Z", ["concise"], "Perfect length"),
      f(4, "2025-01-03T00:00:00Z", ["Concise", "warm"], "Nice and warm"),
      f(2, "2025-01-02T00:00:00Z", ["verbose"]),
      f(1, "2025-01-04T00:00:00Z", [], "Please stop using bullet points"),
      f(3, "2025-01-05T00:00:00Z", ["suggestion"], "Add sources"),
    ]);
    expect(s).toEqual({
      positives: [
        "concise (2 positive ratings)",
        "warm (1 positive rating)",
        "Nice and warm",
        "Perfect length",
      ],
      negatives: ["verbose (1 negative rating)"],
      suggestions: ["Add sources", "Please stop using bullet points"],
    });
  });
});

describe("offline extraction rules on realistic utterances", () => {
  const today = "2025-01-10"; // a Friday

  it("the issue's example: a sport preference and a to-do due before March", () => {
    expect(
      rulesExtract(
        "I've been really into bouldering lately, and remind me to renew my passport before March",
        today,
      ),
    ).toEqual({
      preferences: [{ field: "sport_preferences", value: "bouldering", confidence: 0.75 }],
      todos: [{ text: "Renew my passport", due_date: "2025-02-28", confidence: 0.9 }],
      goals: [],
    });
  });

  it("foods, languages, occupation and a goal with a target date", () => {
    const x = rulesExtract(
      "I love sushi and ramen. I work as a nurse, I speak French and Spanish. My goal is to run a half marathon by June.",
      today,
    );
    expect(x.preferences).toEqual([
      { field: "food_preferences", value: "sushi", confidence: 0.75 },
      { field: "food_preferences", value: "ramen", confidence: 0.75 },
      { field: "occupation", value: "nurse", confidence: 0.8 },
      { field: "languages", value: "French", confidence: 0.8 },
      { field: "languages", value: "Spanish", confidence: 0.8 },
    ]);
    expect(x.goals).toEqual([{ title: "Run a half marathon", target_date: "2025-06-30", confidence: 0.9 }]);
    expect(x.todos).toEqual([]);
  });

  it("to-dos with relative dates; nothing from small talk", () => {
    const x = rulesExtract(
      "Don't let me forget to call mom tomorrow. I need to book the car service by Friday.",
      today,
    );
    expect(x.todos).toEqual([
      { text: "Call mom", due_date: "2025-01-11", confidence: 0.9 },
      { text: "Book the car service", due_date: "2025-01-17", confidence: 0.7 },
    ]);
    expect(rulesExtract("What's the weather like today?", today)).toEqual({
      preferences: [],
      todos: [],
      goals: [],
    });
  });

  it("parses the date phrases people use", () => {
    expect(parseDatePhrase("before March", today)).toBe("2025-02-28");
    expect(parseDatePhrase("by March", today)).toBe("2025-03-31");
    expect(parseDatePhrase("before January", today)).toBe("2025-12-31");
    expect(parseDatePhrase("on March 5th", today)).toBe("2025-03-05");
    expect(parseDatePhrase("by 3 February", today)).toBe("2025-02-03");
    expect(parseDatePhrase("in 2 weeks", today)).toBe("2025-01-24");
    expect(parseDatePhrase("this weekend", today)).toBe("2025-01-11");
    expect(parseDatePhrase("next monday", today)).toBe("2025-01-13");
    expect(parseDatePhrase("by the end of the year", today)).toBe("2025-12-31");
    expect(parseDatePhrase("on 2025-04-01", today)).toBe("2025-04-01");
    expect(parseDatePhrase("soonish", today)).toBeUndefined();
  });
});
