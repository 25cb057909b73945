//! Page requests and pages, shared by every list operation.

use serde::{Deserialize, Serialize};

/// Which page of a list to return. Page numbers start at 1; sizes are capped at
/// [`PageRequest::MAX_SIZE`] so no request can ask for an unbounded list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    number: u32,
    size: u32,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageRequestError {
    /// Page numbers start at 1.
    #[error("page number must be at least 1")]
    NumberTooSmall,
    /// Sizes run from 1 to [`PageRequest::MAX_SIZE`].
    #[error("page size must be between 1 and {max}", max = PageRequest::MAX_SIZE)]
    SizeOutOfRange,
}

impl PageRequest {
    /// The page size used when the client names none.
    pub const DEFAULT_SIZE: u32 = 20;
    /// The largest page size a client may ask for.
    pub const MAX_SIZE: u32 = 100;

    /// A page request, refused when `number` is 0 or `size` is outside `1..=MAX_SIZE`.
    pub fn new(number: u32, size: u32) -> Result<Self, PageRequestError> {
        if number == 0 {
            return Err(PageRequestError::NumberTooSmall);
        }
        if size == 0 || size > Self::MAX_SIZE {
            return Err(PageRequestError::SizeOutOfRange);
        }
        Ok(Self { number, size })
    }

    /// The 1-based page number.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The number of items per page.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// How many items come before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.number - 1) * u64::from(self.size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            number: 1,
            size: Self::DEFAULT_SIZE,
        }
    }
}

/// One page of a list, with the total number of items across all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items on this page, in the requested order.
    pub items: Vec<T>,
    /// How many items match across all pages.
    pub total: u64,
    /// The request this page answers.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// The number of the last page (1 when the list is empty).
    pub fn last_page(&self) -> u32 {
        let size = u64::from(self.request.size());
        let pages = self.total.div_ceil(size).max(1);
        u32::try_from(pages).unwrap_or(u32::MAX)
    }

    /// Transforms the items, keeping the paging information.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

/// Ascending or descending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortDirection {
    /// Smallest first.
    Ascending,
    /// Largest first.
    Descending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_page_zero_and_oversized_pages() {
        assert_eq!(
            PageRequest::new(0, 10),
            Err(PageRequestError::NumberTooSmall)
        );
        assert_eq!(
            PageRequest::new(1, 0),
            Err(PageRequestError::SizeOutOfRange)
        );
        assert_eq!(
            PageRequest::new(1, PageRequest::MAX_SIZE + 1),
            Err(PageRequestError::SizeOutOfRange)
        );
    }

    #[test]
    fn offset_and_last_page() {
        let request = PageRequest::new(3, 20).unwrap();
        assert_eq!(request.offset(), 40);
        let page: Page<u8> = Page {
            items: vec![],
            total: 41,
            request,
        };
        assert_eq!(page.last_page(), 3);
        let empty: Page<u8> = Page {
            items: vec![],
            total: 0,
            request,
        };
        assert_eq!(empty.last_page(), 1);
    }
}
