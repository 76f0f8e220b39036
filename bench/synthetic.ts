import type { StoredDoc } from "../src/elements/stored.js";

/**
 * A realistic synthetic user for the scale benchmark, loaded straight into the hot tier:
 * profile, preferences, state, feedback summary, 5 active goals with 3 progress entries each,
 * 12 open to-dos and 4 events in the coming week (25 documents).
 */
export const SYNTHETIC = { goals: 5, todos: 12, events: 4 } as const;

const FOODS = ["ramen", "tapas", "dal", "pho", "tacos", "mezze", "sushi", "paella"];
const HOBBIES = ["climbing", "chess", "guitar", "running", "pottery", "birding"];

export function syntheticUser(user: string, n: number, now: Date): StoredDoc[] {
  const at = now.toISOString();
  const doc = (element: StoredDoc["element"], id: string, data: Record<string, unknown>): StoredDoc => ({
    user_id: user,
    element,
    id,
    data,
    fv: Object.fromEntries(Object.keys(data).map((k) => [k, 1])),
    seq: 1,
    rev: 1,
    created_at: at,
    updated_at: at,
  });
  const day = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();
  const docs: StoredDoc[] = [
    doc("profile", "self", {
      name: `Synthetic User ${n}`,
      email: `user${n}@example.com`,
      timezone: "Europe/Paris",
      locale: "fr-FR",
    }),
    doc("preferences", "self", {
      occupation: "software engineer",
      food_preferences: [FOODS[n % 8], FOODS[(n + 3) % 8], FOODS[(n + 5) % 8]],
      hobby_preferences: [HOBBIES[n % 6], HOBBIES[(n + 1) % 6]],
      languages: ["French", "English"],
    }),
    doc("state", "self", {
      mood: "focused",
      focus_areas: ["shipping the release", "sleep"],
      recent_wins: ["finished the quarterly report"],
    }),
    doc("feedback_summary", "self", {
      positives: ["short answers", "remembers my goals"],
      negatives: ["too many questions"],
      suggestions: ["suggest recipes"],
    }),
  ];
  for (let g = 0; g < SYNTHETIC.goals; g++)
    docs.push(
      doc("goal", `g${g}`, {
        title: `Goal ${g} of user ${n}: run a half marathon`,
        description: "Build up to 21 km with three runs a week",
        category: "health",
        status: "active",
        priority: (g % 5) + 1,
        target_date: day(60 + g).slice(0, 10),
        progress: Array.from({ length: 3 }, (_, p) => ({
          progress_id: `p${g}-${p}`,
          note: `Ran ${5 + p} km`,
          percent: 10 * (p + 1),
          at: day(-7 + p),
        })),
      }),
    );
  for (let t = 0; t < SYNTHETIC.todos; t++)
    docs.push(
      doc("todo", `t${t}`, {
        text: `To-do ${t}: call the plumber about the kitchen sink`,
        status: "pending",
        priority: (t % 5) + 1,
        due_date: day(1 + (t % 10)).slice(0, 10),
        tags: ["home"],
      }),
    );
  for (let e = 0; e < SYNTHETIC.events; e++)
    docs.push(
      doc("event", `e${e}`, {
        summary: `Meeting ${e} with the design team`,
        start: day(1 + e),
        end: new Date(Date.parse(day(1 + e)) + 3_600_000).toISOString(),
        location: "Room 4",
      }),
    );
  return docs;
}
