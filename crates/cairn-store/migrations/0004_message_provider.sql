-- Where each answer was made (`local`, a provider's name, or `none` for a fixed answer) and what it
-- cost, so a reopened thread still says whether text left the device.
ALTER TABLE messages ADD COLUMN provider TEXT;
ALTER TABLE messages ADD COLUMN cost REAL;
