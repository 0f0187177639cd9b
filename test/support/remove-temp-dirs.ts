// A setup file (vitest.config.ts): the temp folders a test file made go when the file is done.
import { afterAll } from 'vitest'
import { removeTempDirs } from './temp-dirs.js'

afterAll(removeTempDirs)
