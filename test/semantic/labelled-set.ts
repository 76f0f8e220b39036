import { type EmbedText, feedbackText, itemText, preferenceTexts } from "../../src/semantic/documents.js";

/**
 * A small labelled set for the retrieval-quality test: one user's memories and queries, each
 * with the ids of the items a person would call relevant. `lexical` queries share at least a
 * word or word form with an answer; `paraphrase` queries share none (meaning only).
 */
const T = "2026-01-01T00:00:00.000Z";

const prefs = preferenceTexts(
  {
    occupation: "pediatric nurse",
    food_preferences: ["I love sushi and ramen", "no cilantro"],
    sport_preferences: ["bouldering", "road cycling"],
    hobby_preferences: ["playing jazz piano", "birdwatching"],
    languages: ["English", "Portuguese"],
    travel_styles: ["slow travel by train", "budget hostels"],
    attributes: { music: "Miles Davis, Nina Simone", pets: "a rescue greyhound called Pixel" },
  },
  T,
);

const goal = (id: string, title: string, description?: string): EmbedText => ({
  element: "goal",
  item_id: id,
  text: itemText("goal", { title, ...(description ? { description } : {}) }),
  updated_at: T,
});
const todo = (id: string, text: string, extra: Record<string, unknown> = {}): EmbedText => ({
  element: "todo",
  item_id: id,
  text: itemText("todo", { text, ...extra }),
  updated_at: T,
});
const event = (id: string, summary: string, extra: Record<string, unknown> = {}): EmbedText => ({
  element: "event",
  item_id: id,
  text: itemText("event", { summary, ...extra }),
  updated_at: T,
});
const feedback = (id: string, comments: string): EmbedText => ({
  element: "feedback",
  item_id: id,
  text: feedbackText({ comments }) as string,
  updated_at: T,
});

export const MEMORIES: EmbedText[] = [
  ...prefs,
  goal("g-marathon", "Run a half marathon", "train three times a week for the Lisbon half marathon"),
  goal("g-portuguese", "Learn Portuguese", "reach B2 before moving to Porto"),
  goal("g-house", "Save for a house deposit", "put 500 euros aside every month"),
  goal("g-cert", "Finish the nursing certification", "pediatric advanced life support exam"),
  goal("g-books", "Read 24 books this year"),
  todo("t-dentist", "Book the dentist appointment"),
  todo("t-passport", "Renew passport before the trip", { notes: ["photo booth at the station"] }),
  todo("t-shoes", "Buy running shoes", { tags: ["sport"] }),
  todo("t-grandma", "Call grandma on Sunday"),
  todo("t-bill", "Pay the electricity bill"),
  todo("t-tap", "Email landlord about the leaking tap"),
  event("e-dinner", "Team dinner at the Thai place", { location: "Soi 7" }),
  event("e-flight", "Flight to Porto"),
  event("e-piano", "Piano lesson with Ana"),
  event("e-vet", "Vet appointment for Pixel"),
  feedback("f-short", "Too long, please keep answers shorter"),
  feedback("f-recipes", "Loved the recipe suggestions"),
  feedback("f-meat", "Stop recommending meat dishes"),
];

export interface LabelledQuery {
  q: string;
  relevant: string[];
}

const P = (f: string) => `preferences:${f}`;

export const LEXICAL_QUERIES: LabelledQuery[] = [
  { q: "what food do I enjoy?", relevant: [P("food_preferences")] },
  { q: "any sushi places nearby?", relevant: [P("food_preferences")] },
  { q: "how is my marathon training going", relevant: ["goal:g-marathon"] },
  { q: "I want to practice my Portuguese", relevant: ["goal:g-portuguese", P("languages")] },
  { q: "when is my flight to Porto", relevant: ["event:e-flight"] },
  { q: "remind me about the dentist", relevant: ["todo:t-dentist"] },
  { q: "my passport expires soon", relevant: ["todo:t-passport"] },
  { q: "I need new shoes for running", relevant: ["todo:t-shoes"] },
  { q: "did I call my grandmother", relevant: ["todo:t-grandma"] },
  { q: "what music do I listen to", relevant: [P("attributes.music")] },
  { q: "is the electricity bill paid", relevant: ["todo:t-bill"] },
  { q: "the tap in the kitchen is leaking again", relevant: ["todo:t-tap"] },
  { q: "saving money for a house", relevant: ["goal:g-house"] },
  { q: "cycling plans this weekend", relevant: [P("sport_preferences")] },
  { q: "piano practice", relevant: [P("hobby_preferences"), "event:e-piano"] },
  { q: "keep your answers short", relevant: ["feedback:f-short"] },
  { q: "suggest a recipe for dinner", relevant: ["feedback:f-recipes"] },
  { q: "certification exam prep", relevant: ["goal:g-cert"] },
  { q: "books to read", relevant: ["goal:g-books"] },
  { q: "vet visit for Pixel", relevant: ["event:e-vet", P("attributes.pets")] },
  { q: "ideas for travel by train", relevant: [P("travel_styles")] },
  { q: "Thai food tonight", relevant: ["event:e-dinner", P("food_preferences")] },
  { q: "birds I have seen", relevant: [P("hobby_preferences")] },
  { q: "my work as a nurse", relevant: [P("occupation"), "goal:g-cert"] },
];

export const PARAPHRASE_QUERIES: LabelledQuery[] = [
  { q: "how is my dog doing", relevant: [P("attributes.pets"), "event:e-vet"] },
  { q: "what do I do for a living", relevant: [P("occupation")] },
  { q: "which tunes do I like", relevant: [P("attributes.music")] },
  { q: "am I on track with my fitness target", relevant: ["goal:g-marathon"] },
  { q: "when do I fly out", relevant: ["event:e-flight"] },
  { q: "which meals should you avoid proposing", relevant: ["feedback:f-meat", P("food_preferences")] },
  { q: "my teeth hurt", relevant: ["todo:t-dentist"] },
  { q: "rock climbing", relevant: [P("sport_preferences")] },
];
