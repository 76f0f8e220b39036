import { z } from "zod";
import { shortText, stringList } from "./common.js";

/** Element 6: current-state profile. Field-level reads/writes in both tiers. */
export const stateShape = {
  education: shortText(200).optional(),
  skills: stringList(100, 100).optional(),
  mood: shortText(100).optional(),
  focus_areas: stringList(200, 30).optional(),
  pain_points: stringList(200, 30).optional(),
  recent_wins: stringList(300, 30).optional(),
  recent_losses: stringList(300, 30).optional(),
};
export const State = z.strictObject(stateShape);
export type State = z.infer<typeof State>;
