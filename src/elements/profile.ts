import { z } from "zod";
import { isLocale, isoDate, isTimeZone, shortText } from "./common.js";

/** Element 1: basic info. Redis hash + DynamoDB item. */
export const profileShape = {
  name: shortText(100).optional(),
  date_of_birth: isoDate()
    .refine((d) => d <= new Date().toISOString().slice(0, 10), {
      message: "must not be in the future",
      params: { rule: "in_future" },
    })
    .refine((d) => d >= "1900-01-01", {
      message: "must be on or after 1900-01-01",
      params: { rule: "too_early" },
    })
    .optional(),
  gender: shortText(50).optional(),
  email: z.email({ message: "must be a valid email address" }).max(254).optional(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 phone number such as +14155550100")
    .optional(),
  timezone: z
    .string()
    .max(64)
    .refine(isTimeZone, {
      message: "must be an IANA time zone such as Europe/Paris",
      params: { rule: "invalid_timezone" },
    })
    .optional(),
  locale: z
    .string()
    .max(35)
    .refine(isLocale, {
      message: "must be a BCP 47 language tag such as en-US",
      params: { rule: "invalid_locale" },
    })
    .optional(),
};
export const Profile = z.strictObject(profileShape);
export type Profile = z.infer<typeof Profile>;
