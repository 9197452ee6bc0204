/**
 * The text content of a tool result, for clients that show models only the text: one summary line
 * the server wrote (counts, fixed sentences, never a user-controlled string), then the JSON of
 * structuredContent. Message text, display names, reasons and room names live only inside JSON
 * strings, where a line break is "\n" and a quote is "\"", so none can pass for a line the server
 * wrote ("This is the oldest page.", a fake member, a fake agent message).
 */
export function renderText(summary: string, structured: unknown, structuredJson: string = JSON.stringify(structured)): string {
  return `${oneLine(summary)}\n${escapeForModels(structuredJson)}`;
}

/** A one-line sentence: any line break an error message picked up (a name in it) becomes a space. */
export const oneLine = (text: string): string => text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');

/**
 * JSON.stringify escapes C0 controls, quotes and backslashes, but leaves characters that some
 * renderers still treat as a line break (NEL U+0085, U+2028, U+2029) or that reorder what is shown
 * (bidi embeddings, overrides and isolates, U+061C, U+200E/F); DEL and the other C1 controls go too.
 * As \uXXXX escapes the JSON stays equal to structuredContent.
 */
const UNSAFE_IN_TEXT = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with those characters escaped; `json` is JSON.stringify's output, so they stand only inside strings. */
function escapeForModels(json: string): string {
  return json.replace(UNSAFE_IN_TEXT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
