import { splitDate } from "./dates.js";
import type { Extraction, PrefField } from "./types.js";

const SPORTS = new Set(
  "bouldering climbing rock climbing running jogging trail running marathons yoga pilates tennis padel squash badminton football soccer basketball volleyball baseball golf swimming cycling biking mountain biking hiking skiing snowboarding surfing skating skateboarding boxing martial arts judo karate jiu-jitsu crossfit weightlifting lifting rowing kayaking sailing triathlon cricket rugby hockey table tennis ping pong dancing".split(
    " ",
  ),
);
const SPORT_PHRASES = [...SPORTS].filter((s) => s.includes(" "));
const FOOD = new Set(
  "sushi ramen pizza pasta tacos curry thai food indian food italian food japanese food mexican food chinese food korean food dim sum burgers bbq barbecue vegan food vegetarian food salads noodles dumplings pho bao tapas seafood steak chocolate coffee tea wine cheese baking".split(
    " ",
  ),
);
const TRAVEL = [
  "backpacking",
  "road trips",
  "road tripping",
  "beach holidays",
  "city breaks",
  "camping",
  "cruises",
  "luxury travel",
  "solo travel",
  "slow travel",
  "train travel",
];
const LANGUAGES = new Set(
  "english spanish french german italian portuguese dutch swedish norwegian danish finnish polish russian ukrainian greek turkish arabic hebrew hindi bengali urdu mandarin chinese cantonese japanese korean vietnamese thai indonesian malay swahili".split(
    " ",
  ),
);

const LIKE =
  /\b(?:i(?:'ve| have)? been (?:really |super |totally |so )?(?:into|loving|enjoying)|i(?:'m| am) (?:really |super |totally |so |getting )?into|i (?:really |absolutely |just )?(?:love|enjoy|adore)|i(?:'m| am) (?:a )?(?:big |huge )?fan of|my favou?rite (?:food|dish|cuisine|sport|hobby|pastime) is|i(?:'ve| have) (?:recently )?(?:started|taken up|picked up|got into|gotten into)|i (?:really )?like)\s+([^.;!?]+)/gi;
const TAIL = /\s+(?:lately|recently|these days|a lot|nowadays|so much|at the moment|right now)\b.*$/i;
const TODO =
  /\b(remind me to|don't let me forget to|do not let me forget to|make sure i|i need to|i have to|i've got to|i must|todo:?|to-do:?|i should)\s+([^.;!?]+)/gi;
const GOAL =
  /\b(my goal is to|my goal this year is to|i want to|i'd like to|i would like to|i'm planning to|i plan to|i'm aiming to|i aim to|i hope to|i'm training to|i'm determined to)\s+([^.;!?]+)/gi;
const WORK =
  /\b(?:i work as|i'm working as|i am working as|my job is|i(?:'m| am) employed as)\s+(?:an?\s+)?([^.,;!?]+)/i;
const SPEAK = /\bi (?:speak|am learning|'m learning|am fluent in|'m fluent in)\s+([^.;!?]+)/gi;

const TODO_CONFIDENCE: Record<string, number> = {
  "remind me to": 0.9,
  "don't let me forget to": 0.9,
  "do not let me forget to": 0.9,
  "make sure i": 0.8,
  todo: 0.9,
  "todo:": 0.9,
  "to-do": 0.9,
  "to-do:": 0.9,
  "i should": 0.5,
};
const GOAL_CONFIDENCE: Record<string, number> = {
  "my goal is to": 0.9,
  "my goal this year is to": 0.9,
  "i hope to": 0.5,
};

/** Cuts a clause at the next independent clause (", and remind me", " and i want", ...). */
const clauseEnd = (s: string) =>
  s.split(
    /,?\s+(?:and|but|so|also)\s+(?=(?:i|i'm|i've|i'd|remind|don't|my|please)\b)|,\s+(?=(?:i|remind|my)\b)/i,
  )[0] ?? s;
const tidy = (s: string) =>
  s
    .trim()
    .replace(/\s+/g, " ")
    .replace(/[.,!?;:]+$/, "");
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const stripLead = (s: string) => s.replace(/^(?:to|the|a|an|some|playing|doing|going|eating)\s+/i, "");

function classify(value: string, hint: string): PrefField {
  const v = value.toLowerCase();
  if (/food|dish|cuisine/.test(hint) || FOOD.has(v) || /\b(food|cuisine)\b/.test(v))
    return "food_preferences";
  if (/sport/.test(hint) || SPORTS.has(v) || SPORT_PHRASES.some((s) => v.includes(s)))
    return "sport_preferences";
  if (TRAVEL.includes(v) || /\btravel/.test(v)) return "travel_styles";
  return "hobby_preferences";
}

/**
 * Keyword and pattern rules: "I've been into X", "I love X", "remind me to X before March",
 * "my goal is to X by June", "I work as X", "I speak X". Each item carries a fixed confidence
 * by the strength of its cue. Rules, not understanding: README "Cadences" says what they miss.
 */
export function rulesExtract(text: string, today: string): Extraction {
  const out: Extraction = { preferences: [], todos: [], goals: [] };
  const claimed: [number, number][] = [];
  const taken = (i: number) => claimed.some(([a, b]) => i >= a && i < b);

  for (const m of text.matchAll(TODO)) {
    const cue = (m[1] ?? "").toLowerCase();
    const clause = tidy(clauseEnd(m[2] ?? ""));
    if (!clause) continue;
    const { text: task, date } = splitDate(clause, today);
    if (!task) continue;
    claimed.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
    out.todos.push({
      text: cap(task),
      ...(date ? { due_date: date } : {}),
      confidence: TODO_CONFIDENCE[cue] ?? 0.7,
    });
  }
  for (const m of text.matchAll(GOAL)) {
    if (taken(m.index ?? 0)) continue;
    const cue = (m[1] ?? "").toLowerCase();
    const clause = tidy(clauseEnd(m[2] ?? ""));
    if (!clause) continue;
    const { text: title, date } = splitDate(clause, today);
    if (!title) continue;
    out.goals.push({
      title: cap(title),
      ...(date ? { target_date: date } : {}),
      confidence: GOAL_CONFIDENCE[cue] ?? 0.6,
    });
  }
  for (const m of text.matchAll(LIKE)) {
    if (taken(m.index ?? 0)) continue;
    const cue = m[0].slice(0, m[0].length - (m[1] ?? "").length).toLowerCase();
    const phrase = tidy(clauseEnd(m[1] ?? "").replace(TAIL, ""));
    for (const part of phrase.split(/\s*(?:,|\band\b|\bor\b|&)\s*/)) {
      const value = stripLead(tidy(part)).toLowerCase();
      if (
        !value ||
        value.split(" ").length > 4 ||
        /^(it|that|this|you|them|him|her|when|how|being)\b/.test(value)
      )
        continue;
      out.preferences.push({
        field: classify(value, cue),
        value,
        confidence: /\blike\b/.test(cue) ? 0.6 : 0.75,
      });
    }
  }
  const work = WORK.exec(text);
  if (work?.[1]) out.preferences.push({ field: "occupation", value: tidy(work[1]), confidence: 0.8 });
  for (const m of text.matchAll(SPEAK)) {
    for (const part of (m[1] ?? "").split(/\s*(?:,|\band\b)\s*/)) {
      const lang = tidy(part).toLowerCase();
      if (LANGUAGES.has(lang))
        out.preferences.push({ field: "languages", value: cap(lang), confidence: 0.8 });
    }
  }
  return out;
}
