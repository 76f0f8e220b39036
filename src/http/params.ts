import type { Request } from "express";

/** The user id of a /v1/users/:user_id route (already validated by the user router). */
export const userOf = (req: Request): string => (req.params as Record<string, string>).user_id as string;
